"""What a member of staff may do, and how a staff task says it could not be done: below
every group of use cases, so money (refunds, resolving a payment) and staff mode check
the same way without importing each other."""

from __future__ import annotations

from kiosk.domain.staff import Permission, StaffMember


class Forbidden(PermissionError):
    """The signed-in member's role does not allow this task."""


class StaffTaskError(Exception):
    """A task that could not be done, in words for the screen."""


def require(member: StaffMember, permission: Permission) -> None:
    if not member.may(permission):
        raise Forbidden(f"a {member.role} may not do this ({permission})")
