"""Masking of personal numbers (DESIGN.md §6): shown masked everywhere unless unmasked with audit."""


def mask_mobile(mobile: str | None) -> str:
    """A phone number with most of its digits hidden, whatever its length (a project convention:
    docs/architecture.md "Masking"). An 11-digit mobile keeps its first 3 and last 4 (138****1234),
    which hides 4; a shorter number keeps only its last 4, and at most half of a number under 8 digits
    can be shown: a 7-digit local number keeps its last 2 (*****67), 4 digits or fewer are all stars.
    No number is ever shown in full."""
    if not mobile:
        return ""
    n = len(mobile)
    if n >= 11:
        return f"{mobile[:3]}{'*' * (n - 7)}{mobile[-4:]}"
    if n >= 8:
        return f"{'*' * (n - 4)}{mobile[-4:]}"
    if n >= 5:
        return f"{'*' * (n - 2)}{mobile[-2:]}"
    return "*" * n


def mask_id_number(id_number: str | None) -> str:
    if not id_number:
        return ""
    if len(id_number) < 8:
        return "*" * len(id_number)
    return f"{id_number[:4]}{'*' * (len(id_number) - 8)}{id_number[-4:]}"
