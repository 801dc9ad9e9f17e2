"""createsuperuser, holding a password given by environment (DJANGO_SUPERUSER_PASSWORD,
with --no-input) to AUTH_PASSWORD_VALIDATORS as Django's prompt already does: Django
itself checks only the prompted one."""

import os

from django.contrib.auth.management.commands import createsuperuser
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import CommandError


class Command(createsuperuser.Command):
    def handle(self, *args, **options):
        password = os.environ.get("DJANGO_SUPERUSER_PASSWORD")
        if not options["interactive"] and password is not None:
            self._validate(password, options)
        return super().handle(*args, **options)

    def _validate(self, password: str, options: dict) -> None:
        """The same checks, against the user about to be made (so that a password like
        the username or e-mail address is refused)."""
        fields = {
            name: options.get(name) or os.environ.get(f"DJANGO_SUPERUSER_{name.upper()}", "")
            for name in (self.UserModel.USERNAME_FIELD, *self.UserModel.REQUIRED_FIELDS)
        }
        try:
            validate_password(password, self.UserModel(**fields))
        except ValidationError as error:
            raise CommandError(
                "DJANGO_SUPERUSER_PASSWORD is not strong enough: " + " ".join(error.messages)
            ) from None
