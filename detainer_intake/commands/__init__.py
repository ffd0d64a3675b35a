"""Bodies of the operator commands, one module per group; ``detainer_intake.cli`` wires them to typer."""
