"""An e-mail backend that writes each message to a file named after its Message-ID (make run's mail).

Notifications carry a Message-ID made from their id, so sending one again (after a worker died between
sending and recording it) replaces the same file instead of adding a second: the sink is idempotent, as an
SMTP receiver that deduplicates by Message-ID, or a webhook receiver by Idempotency-Key, would be.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.mail.backends.base import BaseEmailBackend
from django.core.mail.message import EmailMessage


class NotificationFileBackend(BaseEmailBackend):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.directory = Path(settings.EMAIL_FILE_PATH)

    def send_messages(self, email_messages: Sequence[EmailMessage]) -> int:
        self.directory.mkdir(parents=True, exist_ok=True)
        for message in email_messages:
            mime = message.message()
            name = re.sub(r"[^\w.@-]", "_", str(mime["Message-ID"]).strip("<>")) + ".eml"
            # Written whole, then renamed: a reader never sees half a message, a resend replaces it.
            handle, temporary = tempfile.mkstemp(dir=self.directory, suffix=".part")
            with os.fdopen(handle, "wb") as out:
                out.write(mime.as_bytes())
            os.replace(temporary, self.directory / name)
        return len(email_messages)
