"""Operations on memorials that views, the API and management commands share."""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _

from memorial.accounts.models import Family
from memorial.audit.actions import AuditAction
from memorial.audit.services import note
from memorial.memorials.models import Membership, Memorial, Role
from memorial.policy import forget_roles


@transaction.atomic
def create_memorial(user, *, family: Family | None = None, **fields) -> Memorial:
    """Create a memorial with `user` as its owner, in their family (made on first use)."""
    if family is None:
        family = Family.objects.filter(created_by=user).order_by("pk").first()
    if family is None:
        family = Family.objects.create(
            name=_("Family of %(name)s") % {"name": user.get_short_name()}, created_by=user
        )
    memorial = Memorial.objects.create(family=family, created_by=user, **fields)
    Membership.objects.create(memorial=memorial, user=user, role=Role.OWNER)
    forget_roles(user)
    return memorial


def add_member(memorial: Memorial, user, role: str) -> Membership:
    previous = (
        Membership.objects.filter(memorial=memorial, user=user)
        .values_list("role", flat=True)
        .first()
    )
    membership, _created = Membership.objects.update_or_create(
        memorial=memorial, user=user, defaults={"role": role}
    )
    forget_roles(user)
    if previous != role:
        note(AuditAction.MEMBER_ADDED, membership, user=user.pk, role=role, previous=previous)
    return membership


class LastOwnerError(ValueError):
    """A memorial must always keep an owner who can manage consent and deletion."""


@transaction.atomic
def change_role(membership: Membership, role: str) -> Membership:
    if membership.role == Role.OWNER and role != Role.OWNER:
        _ensure_another_owner(membership)
    previous = membership.role
    membership.role = role
    membership.save(update_fields=["role"])
    forget_roles(membership.user)
    note(
        AuditAction.MEMBER_ROLE_CHANGED,
        membership,
        user=membership.user_id,
        role=role,
        previous=previous,
    )
    return membership


@transaction.atomic
def remove_member(membership: Membership) -> None:
    if membership.role == Role.OWNER:
        _ensure_another_owner(membership)
    target = ("memorials.membership", membership.pk)
    membership.delete()
    forget_roles(membership.user)
    note(
        AuditAction.MEMBER_REMOVED,
        target,
        memorial=membership.memorial_id,
        user=membership.user_id,
        role=membership.role,
    )


def _ensure_another_owner(membership: Membership) -> None:
    others = (
        Membership.objects.select_for_update()
        .filter(memorial_id=membership.memorial_id, role=Role.OWNER)
        .exclude(pk=membership.pk)
    )
    if not others.exists():
        raise LastOwnerError(_("A memorial needs at least one owner."))
