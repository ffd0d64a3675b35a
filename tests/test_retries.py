"""Which failures Prefect retries: the retry decision sees the original error's class, although every
untyped error is replaced by a scrubbed one (no personal data in Prefect's states and logs)."""

from __future__ import annotations

from typing import Any

import pytest

from flows import tasks


class FailedState:
    """What ``retry_condition_fn`` is given: a state whose ``result()`` raises the task's error."""

    def __init__(self, error: BaseException) -> None:
        self.error = error

    def result(self) -> Any:
        raise self.error


def scrubbed_failure(error: Exception) -> Exception:
    @tasks.scrubbed
    def step() -> None:
        raise error

    with pytest.raises(Exception) as caught:
        step()
    return caught.value


@pytest.mark.parametrize(
    "error",
    [OSError(5, "Input/output error"), FileNotFoundError("/srv/fax/station C-6"), TimeoutError("slow share")],
    ids=["io", "folder-gone", "timeout"],
)
def test_an_io_or_timeout_failure_is_retried(error: Exception) -> None:
    failure = scrubbed_failure(error)
    assert isinstance(failure, tasks.StepFailed)  # scrubbed like every untyped error
    assert tasks._transient(None, None, FailedState(failure))


@pytest.mark.parametrize(
    "error", [ValueError("GARCIA LOPEZ, Maria"), KeyError("file_number"), RuntimeError("parser fault")]
)
def test_a_parse_or_programming_failure_is_not_retried(error: Exception) -> None:
    failure = scrubbed_failure(error)
    assert type(failure) is tasks.StepFailed
    assert not tasks._transient(None, None, FailedState(failure))


def test_the_retried_steps_decide_with_the_original_class() -> None:
    for task in (tasks.poll_task, tasks.commit_task, tasks.complete_task):
        assert task.retry_condition_fn is tasks._transient, task.name
