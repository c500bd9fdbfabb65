"""Create the first administrator of a new instance, once.

The embedded run calls it on every start: when a superuser exists it does nothing,
so a restart never makes a second administrator or changes a password.
"""

from __future__ import annotations

import getpass
import os
import secrets
import sys

from django.conf import settings
from django.contrib.auth import get_user_model, password_validation
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.core.validators import validate_email
from django.db import transaction

DEFAULT_EMAIL = "admin@localhost"
# No look-alike characters (0/O, 1/l/I), so the password can be typed from the screen.
ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789"
PASSWORD_LENGTH = 20


def generate_password() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(PASSWORD_LENGTH))


def boxed(lines: list[str]) -> str:
    """Frame lines in plain ASCII, which every terminal and log file shows the same way."""
    width = max(len(line) for line in lines)
    rule = "+" + "-" * (width + 4) + "+"
    return "\n".join([rule, *(f"|  {line.ljust(width)}  |" for line in lines), rule])


class Command(BaseCommand):
    help = (
        "Create the first administrator when no superuser exists yet. The password comes from "
        "MEMORIAL_ADMIN_PASSWORD, is asked for on a terminal, or is generated and shown once."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--email",
            default=os.environ.get("MEMORIAL_ADMIN_EMAIL") or DEFAULT_EMAIL,
            help="E-mail address to sign in with (default: MEMORIAL_ADMIN_EMAIL or %(default)s).",
        )
        parser.add_argument(
            "--url",
            default=settings.SITE_URL + "/",
            help="Address to sign in at, shown with the password.",
        )
        parser.add_argument(
            "--no-input",
            "--noinput",
            dest="interactive",
            action="store_false",
            help="Never ask for a password; generate one when MEMORIAL_ADMIN_PASSWORD is unset.",
        )

    def handle(self, *args: object, email: str, url: str, interactive: bool, **options: object):
        user_model = get_user_model()
        existing = user_model.objects.filter(is_superuser=True).order_by("date_joined").first()
        if existing is not None:
            self.stdout.write(f"An administrator already exists ({existing.email}).")
            return

        email = user_model.objects.normalize_email(email.strip()).lower()
        try:
            validate_email(email)
        except ValidationError as error:
            raise CommandError(f"{email!r} is not a valid e-mail address.") from error

        password = os.environ.get("MEMORIAL_ADMIN_PASSWORD", "")
        shown = False
        if password:
            self.validate(password, email)
        elif interactive and sys.stdin.isatty():
            password = self.ask(email)
        if not password:
            password, shown = generate_password(), True

        with transaction.atomic():
            user_model.objects.create_superuser(
                email=email, password=password, display_name="Administrator"
            )
        self.stdout.write(self.report(email, password if shown else None, url))

    def validate(self, password: str, email: str) -> None:
        try:
            password_validation.validate_password(password, get_user_model()(email=email))
        except ValidationError as error:
            raise CommandError(
                "MEMORIAL_ADMIN_PASSWORD is too weak: " + " ".join(error.messages)
            ) from error

    def ask(self, email: str) -> str:
        """Ask on the terminal until two entries match and pass the password rules."""
        self.stdout.write(
            f"Choose a password for the first administrator, {email}.\n"
            "Leave it empty to have one generated and shown once."
        )
        while True:
            first = getpass.getpass("Password: ")
            if not first:
                return ""
            if getpass.getpass("Password (again): ") != first:
                self.stderr.write("The two passwords differ. Please try again.")
                continue
            try:
                password_validation.validate_password(first, get_user_model()(email=email))
            except ValidationError as error:
                self.stderr.write(" ".join(error.messages))
                continue
            return first

    def report(self, email: str, password: str | None, url: str) -> str:
        lines = [
            "Memorial: the first administrator has been created.",
            "",
            f"  Address:   {url}",
            f"  E-mail:    {email}",
        ]
        if password is None:
            lines.append("  Password:  the one you chose")
        else:
            lines += [
                f"  Password:  {password}",
                "",
                "This password is shown only this once and is not stored in clear anywhere.",
                "Sign in, then change it at " + url.rstrip("/") + "/admin/password_change/",
            ]
        lines += [
            "",
            "Forgot it? Run, in this folder and with the same environment:",
            f"  .venv/bin/python manage.py changepassword {email}",
        ]
        return boxed(lines)
