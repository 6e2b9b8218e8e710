"""The public part of an appeal: what anyone may read of it (the Open311 GET answers) and all that a follower
who did not report it sees, on the phone page and in the API (``policies.sees_whole``).

No reporter's name, phone, household or account; no address finer than the place when the appeal is placed
at a household; the text (title, description, answers, notes, the result, a rating comment) with phone and ID
numbers masked however they were typed (``core.pii.mask_free_text``); no photos."""

from __future__ import annotations

from gongzhi.core.pii import mask_free_text

from .models import Appeal

text = mask_free_text


def title(appeal: Appeal) -> str:
    """The title, masked. A title left empty when filing is made from the description (``title_from``; before,
    its first 30 characters), and may end inside a phone or ID number that, cut short, no longer reads as one
    (电话139-1111-22…): such a title is made again from the masked description."""
    from .actions.loop import title_from

    if appeal.title and appeal.title == title_from(appeal.description):
        return title_from(mask_free_text(appeal.description))
    if appeal.title and appeal.description.startswith(appeal.title):
        return mask_free_text(appeal.description)[:len(appeal.title)]
    return mask_free_text(appeal.title)


def address(appeal: Appeal, place: str) -> str:
    """Where, without the reporter's home: an appeal placed at a household shows ``place`` (the name of its grid)
    instead of the household's address; a typed address (a street corner) is shown, masked."""
    if appeal.household_id or not appeal.address:
        return place
    return mask_free_text(appeal.address)


def point(appeal: Appeal) -> tuple[float | None, float | None]:
    """(lat, lng): an appeal placed at a household carries its compound's point, which names the compound; the
    place's centre instead."""
    if appeal.household_id or appeal.lat is None or appeal.lng is None:
        return appeal.node.lat, appeal.node.lng
    return appeal.lat, appeal.lng


def answers(values: dict) -> dict:
    """The answers to the category's questions, free-text ones masked."""
    def clean(value):
        if isinstance(value, str):
            return mask_free_text(value)
        if isinstance(value, list):
            return [clean(v) for v in value]
        return value

    return {key: clean(value) for key, value in (values or {}).items()}
