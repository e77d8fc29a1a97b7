"""Authentication backend: Django's ModelBackend, reading the user with the region.

Every page reads `request.user.region` (the user's scope, the header's region name), so the user
of a session is loaded with it in one query instead of two.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import ModelBackend

from povertyapp.models import User


class ModelBackendWithRegion(ModelBackend):
    def get_user(self, user_id: Any) -> User | None:
        try:
            user = User._default_manager.select_related("region").get(pk=user_id)
        except User.DoesNotExist:
            return None
        return user if self.user_can_authenticate(user) else None
