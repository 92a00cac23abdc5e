"""Admin pieces shared by the apps."""

from django.http import HttpRequest


class ViewOnlyAdminMixin:
    """An admin (or inline) for looking, not changing: for rows that only the services may
    write, since a staff edit would skip their checks and version bumps."""

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
