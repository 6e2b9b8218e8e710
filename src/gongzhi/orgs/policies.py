"""Who may see what of a registry record, beyond the permission to see the record at all (``selectors``)."""

from __future__ import annotations

from gongzhi.orgs.permissions import Perm


def sees_birth_date(user, resident) -> bool:
    """The full birth date is characters 7-14 of the ID number: beside the mask (``core.pii.mask_id_number``)
    it would leave some 500 candidates for the number instead of 182,500 (docs/adr/0002). So it is shown only
    to whoever may reveal the number anyway (``pii.reveal`` over the resident, every reveal audited); everyone
    else sees the age."""
    return user is not None and user.is_authenticated and user.can(Perm.PII_REVEAL, resident.org_path)
