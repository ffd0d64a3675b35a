"""The held-out family's pages, drawn from the printed facts of the real forms
(/work/shared/reference/forms-and-fax.md): I-247A page 1 in several editions, label wordings
and layouts, the notice to the detainee in several languages, the I-200 / I-205 warrants,
cover sheets and documents that are not detainers."""

from __future__ import annotations

import random
from dataclasses import dataclass

from bench.heldout.fonts import FILL_FACES, FORM_FACES
from bench.heldout.page import WIDTH, Page
from bench.heldout.values import ACTIONS, PC, Detainer

L, R = 40.0, WIDTH - 40.0

PC_TEXT = {
    "final_order": "a final order of removal against the alien;",
    "pending_proceedings": "the pendency of ongoing removal proceedings against the alien;",
    "biometric_records": "biometric confirmation of the alien’s identity and a records check of federal databases "
    "that affirmatively indicate, by themselves or in addition to other reliable information, that the alien "
    "either lacks immigration status or notwithstanding such status is removable under U.S. immigration law; and/or",
    "statements_evidence": "statements made by the alien to an immigration officer and/or other reliable evidence "
    "that affirmatively indicate the alien either lacks immigration status or notwithstanding such status is "
    "removable under U.S. immigration law.",
}
ACTION_TEXT = {
    "notify": "Notify DHS as early as practicable (at least 48 hours, if possible) before the alien is released "
    "from your custody. Please notify DHS by calling U.S. Immigration and Customs Enforcement (ICE) or U.S. "
    "Customs and Border Protection (CBP) at {phone}. If you cannot reach an official at the number(s) provided, "
    "please contact the Law Enforcement Support Center at: (802) 872-6020.",
    "maintain_custody": "Maintain custody of the alien for a period NOT TO EXCEED 48 HOURS beyond the time when "
    "he/she would otherwise have been released from your custody to allow DHS to assume custody.",
    "relay": "Relay this detainer to any other law enforcement agency to which you transfer custody of the alien.",
    "notify_death_transfer": "Notify this office in the event of the alien's death, hospitalization or transfer "
    "to another institution.",
}
LABELS = {
    "subject": ("Subject ID:", "Subject ID :", "Subject  ID:", "SUBJECT ID:"),
    "event": ("Event #:", "Event No:", "Event No.:", "Event # :"),
    "file": ("File No:", "File No.:", "File No. :", "FILE NO:"),
    "date": ("Date:", "Date :", "Date Issued:"),
    "name": ("Name of Alien:", "Name of Alien :", "NAME OF ALIEN:"),
    "dob": ("Date of Birth:", "Date of Birth :", "DOB:"),
    "cit": ("Citizenship:", "Citizenship :", "Country of Citizenship:"),
    "sex": ("Sex:", "Sex :", "Gender:"),
}
MARKS = ("x", "check", "fill", "typed")


@dataclass
class Style:
    form: str  # pre-printed face
    form_bold: str
    fill: str  # fill-in face
    fill_size: float
    layout: str  # inline | cells
    mark: str  # x | check | fill | typed
    labels: dict[str, str]
    heavy: bool  # heavy rules / table look

    @classmethod
    def pick(cls, rng: random.Random, fill_faces: tuple[str, ...] = FILL_FACES) -> Style:
        form, bold = rng.choice(FORM_FACES)
        return cls(form=form, form_bold=bold, fill=rng.choice(fill_faces), fill_size=rng.choice((9.5, 10.0, 11.0)),
                   layout=rng.choice(("inline", "cells")), mark=rng.choice(MARKS),
                   labels={k: rng.choice(v) for k, v in LABELS.items()}, heavy=rng.random() < 0.4)


def checkbox(p: Page, x: float, y: float, checked: bool, st: Style, size: float = 8.0) -> None:
    """A box whose bottom edge sits on baseline y."""
    top = y - size
    p.rect(x, top, size, size, width=1.0 if st.heavy else 0.7)
    if not checked:
        return
    if st.mark == "x":
        p.line(x + 1, top + 1, x + size - 1, y - 1, 1.2)
        p.line(x + 1, y - 1, x + size - 1, top + 1, 1.2)
    elif st.mark == "check":
        p.line(x + 1.2, top + size * 0.55, x + size * 0.42, y - 1, 1.4)
        p.line(x + size * 0.42, y - 1, x + size + 1.5, top - 2, 1.4)
    elif st.mark == "fill":
        p.rect(x + 1.3, top + 1.3, size - 2.6, size - 2.6, width=0.5, fill=True)
    else:
        p.text(x + 0.8, y - 0.8, "X", st.fill, size)


def _a_number(rng: random.Random, digits: str) -> str:
    forms = [f"A{digits}", f"A {digits[:3]} {digits[3:6]} {digits[6:]}", f"A{digits[:3]}-{digits[3:6]}-{digits[6:]}",
             f"A{digits}"]
    if digits.startswith("0"):
        forms.append(f"A{digits.lstrip('0')}")
    return rng.choice(forms)


def _sex(rng: random.Random, sex: str) -> str:
    return rng.choice((sex, sex, {"M": "Male", "F": "Female"}[sex], {"M": "MALE", "F": "FEMALE"}[sex]))


def footer(p: Page, st: Style, edition: str, number: int, total: int, form: str = "I-247A") -> None:
    p.line(L, 752, R, 752, 0.6)
    p.text(L, 764, f"DHS Form {form} ({edition})", st.form, 8)
    text = f"Page {number} of {total}"
    p.text(R - 50, 764, text, st.form, 8)


def detainer_p1(d: Detainer, st: Style, rng: random.Random) -> Page:
    p = Page()
    fs, ff, fz = st.form, st.form_bold, st.fill_size
    p.center(46, "DEPARTMENT OF HOMELAND SECURITY (DHS)", ff, 10)
    p.center(64, "IMMIGRATION DETAINER – NOTICE OF ACTION", ff, 13)
    if st.heavy:
        p.line(L, 72, R, 72, 2.0)
    lab = st.labels
    date_text = d.issued.strftime("%m/%d/%Y")
    rows = [((lab["subject"], d.subject_id), (lab["event"], d.event_number)),
            ((lab["file"], _a_number(rng, d.a_digits)), (lab["date"], date_text))]
    y = 92.0
    for left, right in rows:
        for (label, value), x in ((left, L), (right, 320.0)):
            if st.layout == "inline":
                end = p.text(x, y, label, ff, 9)
                p.text(end + rng.choice((4, 6, 10)), y, value, st.fill, fz)
            else:
                p.rect(x - 3, y - 12, 270, 22, width=1.2 if st.heavy else 0.6)
                p.text(x, y - 3, label, fs, 6.5)
                p.text(x + 6, y + 7, value, st.fill, fz)
        y += 24 if st.layout == "cells" else 18
    # TO and FROM side by side, every line of each box filled in
    top = y + 2
    height = 16 + 13 * max(len(d.to_lines), len(d.from_lines), 3)
    p.rect(L - 3, top, 280, height, width=1.2 if st.heavy else 0.6)
    p.rect(L + 280, top, R - L - 277, height, width=1.2 if st.heavy else 0.6)
    p.text(L, top + 9, "TO: (Name and Title of Institution - OR Any Subsequent Law Enforcement Agency)", ff, 5.8)
    p.text(L + 284, top + 9, "FROM: (DHS Office Address)", ff, 5.8)
    for i, text in enumerate(d.to_lines):
        p.text(L + 6, top + 23 + 13 * i, text, st.fill, fz)
    for i, text in enumerate(d.from_lines):
        p.text(L + 290, top + 23 + 13 * i, text, st.fill, fz)
    y = top + height + 18
    end = p.text(L, y, lab["name"], ff, 9)
    p.text(end + 6, y, d.name, st.fill, fz)
    y += 18
    for (label, value), x in (((lab["dob"], d.dob.strftime("%m/%d/%Y")), L),
                              ((lab["cit"], d.citizenship), 215.0), ((lab["sex"], _sex(rng, d.sex)), 450.0)):
        end = p.text(x, y, label, ff, 9)
        p.text(end + 5, y, value, st.fill, fz)
    y += 10
    p.line(L - 3, y, R + 3, y, 1.5 if st.heavy else 0.8)
    y += 14
    y = p.wrap(L, y, "1. DHS HAS DETERMINED THAT PROBABLE CAUSE EXISTS THAT THE SUBJECT IS A REMOVABLE ALIEN. "
               "THIS DETERMINATION IS BASED ON (complete box 1 or 2):", ff, 8.2, R)
    for key in PC:
        y += 2
        checkbox(p, L + 10, y, key in d.probable_cause, st)
        y = p.wrap(L + 24, y, PC_TEXT[key], fs, 7.8, R)
    y += 4
    checkbox(p, L, y, d.transferred, st)
    y = p.wrap(L + 14, y, "2. DHS TRANSFERRED THE ALIEN TO YOUR CUSTODY FOR A PROCEEDING OR INVESTIGATION "
               "(complete box 1 or 2). Upon completion of the proceeding or investigation for which the alien was "
               "transferred to your custody, DHS intends to resume custody of the alien to complete processing "
               "and/or make an admissibility determination.", ff, 8.0, R)
    y += 4
    p.line(L - 3, y - 6, R + 3, y - 6, 1.5 if st.heavy else 0.8)
    y += 6
    p.text(L, y, "IT IS THEREFORE REQUESTED THAT YOU:", ff, 9)
    y += 13
    phone = "(" + d.sender_number[2:5] + ") " + d.sender_number[5:8] + "-" + d.sender_number[8:]
    for key in ACTIONS:
        checkbox(p, L + 10, y, key in d.actions, st)
        y = p.wrap(L + 24, y, ACTION_TEXT[key].format(phone=phone), fs, 7.8, R) + 2
    checkbox(p, L + 10, y, d.cancels is not None, st)
    end = p.text(L + 24, y, "If checked: please cancel the detainer related to this alien previously submitted "
                 "to you on", fs, 7.8)
    p.line(end + 3, y + 1.5, end + 70, y + 1.5, 0.5)
    if d.cancels:
        p.text(end + 6, y - 0.5, d.cancels.strftime("%m/%d/%Y"), st.fill, fz - 1)
    p.text(end + 72, y, "(date).", fs, 7.8)
    y += 24
    # the officer: name and title on one line, as the case system prints it
    p.line(L, y + 2, 300, y + 2, 0.5)
    p.text(L + 2, y - 1, d.officer_line, st.fill, fz)
    p.line(330, y + 2, R, y + 2, 0.5)
    p.text(L, y + 10, "(Name and title of Immigration Officer)", fs, 6.5)
    p.text(330, y + 10, "(Signature of Immigration Officer)", fs, 6.5)
    _scribble(p, rng, 350, y - 2)
    y += 26
    # the holding agency's block: a ruled table left blank
    p.rect(L - 3, y, R - L + 6, 740 - y, width=1.4 if st.heavy else 0.6)
    p.text(L, y + 10, "Notice: If the alien is to be released prior to the time of the request, please notify "
           "DHS. To be completed by the law enforcement agency currently holding the alien:", fs, 6.4)
    cells = ("Booking/Inmate #:", "Estimated release date/time:", "Latest criminal charge/conviction:",
             "Date of latest conviction:", "Date and manner of service on the alien:", "Officer name and signature:")
    row = y + 14
    step = (740 - row) / 3
    for i, label in enumerate(cells):
        cx, cy = (L, row + step * (i // 2)) if i % 2 == 0 else (L + (R - L) / 2, row + step * (i // 2))
        p.text(cx + 2, cy + 9, label, fs, 6.5)
        if st.heavy:
            p.line(L - 3, cy, R + 3, cy, 1.2)
    if st.heavy:
        p.line(L + (R - L) / 2 - 3, row, L + (R - L) / 2 - 3, 740, 1.2)
    footer(p, st, d.edition, 1, 3)
    return p


def _scribble(p: Page, rng: random.Random, x: float, y: float) -> None:
    px, py = x, y
    for _ in range(7):
        nx, ny = px + rng.uniform(6, 16), y + rng.uniform(-9, 2)
        p.line(px, py, nx, ny, 1.0)
        px, py = nx, ny


NOTICE = {
    "en": ("NOTICE TO THE DETAINEE", "The Department of Homeland Security (DHS) has placed an immigration detainer "
           "on you. An immigration detainer is a notice from DHS informing law enforcement agencies that DHS intends "
           "to assume custody of you after you otherwise would be released from custody. DHS has requested that the "
           "law enforcement agency which is currently detaining you maintain custody of you for a period not to "
           "exceed 48 hours beyond the time you would otherwise have been released. If DHS does not take you into "
           "custody during that additional 48 hour period, you should contact your custodian to inquire about your "
           "release. If you believe you are a United States citizen or the victim of a crime, please advise DHS by "
           "calling the ICE Law Enforcement Support Center toll free at (855) 448-6903."),
    "es": ("NOTIFICACIÓN A LA PERSONA DETENIDA", "El Departamento de Seguridad Nacional (DHS) ha emitido una orden "
           "de detención migratoria en su contra. Mediante esta orden, se notifica a los organismos policiales que "
           "el DHS pretende arrestarle cuando usted cumpla su reclusión actual. El DHS ha solicitado que el organismo "
           "policial que le tiene detenido actualmente le mantenga bajo custodia durante un período no mayor a 48 "
           "horas. Si usted cree que es ciudadano de los Estados Unidos o que ha sido víctima de un delito, "
           "infórmeselo al DHS llamando gratis al (855) 448-6903."),
    "fr": ("AVIS AU DÉTENU", "Le Département de la Sécurité intérieure (DHS) a émis un ordre d'incarcération à votre "
           "encontre. L'ordre d'incarcération est un avis du DHS informant les organismes chargés de l'application "
           "de la loi que le DHS a l'intention de vous détenir après la date normale de votre mise en liberté. "
           "Si vous pensez être citoyen des États-Unis ou victime d'un crime, veuillez en aviser le DHS en appelant "
           "le numéro gratuit (855) 448-6903."),
    "pt": ("AVISO AO DETENTO", "O Departamento de Segurança Nacional (DHS) emitiu um mandado de detenção de imigração "
           "contra você. O DHS solicitou que o órgão policial que o mantém detido o mantenha sob custódia por um "
           "período não superior a 48 horas após o momento em que você seria libertado. Se você acredita ser "
           "cidadão dos Estados Unidos ou vítima de um crime, informe o DHS ligando para (855) 448-6903."),
    "ht": ("AVI POU MOUN KI ANBA DETANSYON AN", "Depatman Sekirite Teritwa (DHS) mete yon lòd detansyon imigrasyon "
           "sou ou. DHS mande ajans lapolis ki kenbe w la pou l kenbe w pou yon peryòd ki pa depase 48 èdtan. Si ou "
           "kwè ou se yon sitwayen Etazini oswa viktim yon krim, tanpri fè DHS konnen nan rele (855) 448-6903."),
}


def notice_page(st: Style, edition: str, number: int, langs: list[str]) -> Page:
    p = Page()
    p.center(50, "DEPARTMENT OF HOMELAND SECURITY (DHS)", st.form_bold, 10)
    y = 78.0
    for lang in langs:
        title, body = NOTICE[lang]
        p.center(y, title, st.form_bold, 11)
        y = p.wrap(L, y + 18, body, st.form, 8.6, R, 1.3) + 16
    footer(p, st, edition, number, 3)
    return p


def warrant_page(d: Detainer, st: Style, form: str, rng: random.Random) -> Page:
    p = Page()
    p.center(48, "U.S. DEPARTMENT OF HOMELAND SECURITY", st.form_bold, 11)
    title = "WARRANT FOR ARREST OF ALIEN" if form == "I-200" else "WARRANT OF REMOVAL/DEPORTATION"
    p.center(70, title, st.form_bold, 14)
    y = 100.0
    for label, value in (("File No.", _a_number(rng, d.a_digits)), ("Date:", d.issued.strftime("%m/%d/%Y"))):
        end = p.text(L, y, label, st.form_bold, 9)
        p.text(end + 8, y, value, st.fill, st.fill_size)
        y += 18
    p.text(L, y + 6, "To: Any immigration officer authorized pursuant to sections 236 and 287 of the Immigration "
           "and Nationality Act", st.form, 8.5)
    y += 30
    if form == "I-200":
        body = ("I have determined that there is probable cause to believe that the person named below is removable "
                "from the United States. This determination is based upon the execution of a charging document, "
                "biometric confirmation of the subject's identity and statements made voluntarily by the subject. "
                "YOU ARE COMMANDED to arrest and take into custody for removal proceedings under the Immigration "
                "and Nationality Act, the above-named alien.")
    else:
        body = ("The alien named below, who entered the United States, is subject to removal/deportation from the "
                "United States based upon a final order by an immigration judge in exclusion, deportation, or "
                "removal proceedings. I, the undersigned officer of the United States, by virtue of the power and "
                "authority vested in the Secretary of Homeland Security, command you to take into custody and "
                "remove from the United States the above-named alien.")
    y = p.wrap(L, y, body, st.form, 9, R, 1.35) + 14
    end = p.text(L, y, "Name of alien:", st.form_bold, 9)
    p.text(end + 8, y, d.name, st.fill, st.fill_size)
    y += 40
    p.line(330, y, R, y, 0.5)
    _scribble(p, rng, 350, y - 3)
    p.text(330, y + 10, "(Signature of Authorized Immigration Officer)", st.form, 7)
    p.text(330, y + 30, d.officer_line, st.fill, st.fill_size - 1)
    p.line(L, 752, R, 752, 0.6)
    p.text(L, 764, f"Form {form} (Rev. {'09/16' if form == 'I-200' else '08/07'})", st.form, 8)
    return p


def cover_page(st: Style, rng: random.Random, sender: str, pages: int, detainer_words: bool) -> Page:
    p = Page()
    title = rng.choice(("FAX", "FACSIMILE TRANSMITTAL SHEET", "Fax Cover Sheet"))
    p.center(70, title, st.form_bold, 22)
    if st.heavy:
        p.line(L, 84, R, 84, 3.0)
    subject = rng.choice(("Immigration detainer (I-247A) and warrant", "ICE detainer - please acknowledge",
                          "Detainer notice for inmate in your custody")) if detainer_words else rng.choice(
        ("Documents as discussed", "Records request", "Please see attached"))
    y = 130.0
    for label, value in (("To:", rng.choice(("Booking Desk", "Records Unit", "Shift Commander"))),
                         ("From:", sender), ("Pages:", str(pages)), ("Re:", subject)):
        p.text(L + 20, y, label, st.form_bold, 12)
        p.text(L + 110, y, value, st.fill, 12)
        if st.heavy:
            p.line(L + 100, y + 4, R, y + 4, 0.8)
        y += 30
    p.wrap(L + 20, y + 30, "CONFIDENTIALITY NOTICE: This facsimile contains information that may be law enforcement "
           "sensitive. If you have received it in error, notify the sender and destroy all copies.", st.form, 9, R)
    return p


def decoy_pages(st: Style, rng: random.Random, kind: str, d: Detainer) -> list[Page]:
    """Documents a department also receives that are not detainers."""
    p = Page()
    if kind == "court":
        p.center(60, rng.choice(("COMMONWEALTH OF MASSACHUSETTS", "STATE OF NEW JERSEY")), st.form_bold, 12)
        p.center(80, "DISTRICT COURT DEPARTMENT OF THE TRIAL COURT", st.form_bold, 11)
        p.center(110, "NOTICE OF HEARING", st.form_bold, 15)
        y = 150.0
        for label, value in (("Docket No.:", f"{rng.randrange(2400, 2599)}CR{rng.randrange(1000, 9999)}"),
                             ("Defendant:", d.name), ("Hearing date:", d.issued.strftime("%m/%d/%Y")),
                             ("Courtroom:", str(rng.randrange(1, 12)))):
            end = p.text(L, y, label, st.form_bold, 10)
            p.text(end + 10, y, value, st.fill, 11)
            y += 22
        p.wrap(L, y + 20, "You are hereby notified that the above matter is scheduled for a pretrial hearing. "
               "Please produce the defendant at the time and place stated. Failure to appear may result in a "
               "default.", st.form, 10, R)
    elif kind == "warrant":
        p.center(60, "SUPERIOR COURT", st.form_bold, 12)
        p.center(90, rng.choice(("ARREST WARRANT", "SEARCH WARRANT", "BENCH WARRANT")), st.form_bold, 16)
        y = p.wrap(L, 130, "TO ANY SHERIFF OR POLICE OFFICER: You are commanded to arrest the person named below and "
                   "bring that person before this court to answer the complaint charging an offense against the "
                   "laws of this state.", st.form, 10, R, 1.4)
        end = p.text(L, y + 20, "Name:", st.form_bold, 10)
        p.text(end + 10, y + 20, d.name, st.fill, 11)
        p.text(L, y + 60, "Judge / Clerk-Magistrate", st.form, 9)
    elif kind == "booking":
        p.center(56, "ARREST / BOOKING REPORT", st.form_bold, 14)
        y = 80.0
        for label, value in (("Booking #", str(rng.randrange(10**6, 10**7))), ("Name", d.name),
                             ("DOB", d.dob.strftime("%m/%d/%Y")), ("Charge", "OUI LIQUOR"),
                             ("Arresting officer", "Ptl. " + rng.choice(("Donnelly", "Ruiz", "Park"))),
                             ("Bail", "$" + str(rng.randrange(1, 50) * 100))):
            p.rect(L, y, R - L, 26, width=1.2)
            p.line(L + 150, y, L + 150, y + 26, 1.2)
            p.text(L + 6, y + 17, label, st.form_bold, 10)
            p.text(L + 160, y + 17, value, st.fill, 11)
            y += 26
    else:  # an ordinary letter
        p.text(L, 70, rng.choice(("Office of the Public Defender", "Riverside Community Legal Aid",
                                  "County Clerk's Office")), st.form_bold, 12)
        y = p.wrap(L, 130, "Dear Records Officer, we write to request copies of the incident reports and any "
                   "booking photographs concerning our client for the date referenced. Please contact our office "
                   "with the applicable fee. Thank you for your assistance.", st.fill, 11, R, 1.5)
        p.text(L, y + 40, "Sincerely,", st.fill, 11)
    return [p]
