"""The documented domain of a transfer text: what the pages promise every target takes.

The page calls the text "alphanumeric" and shows short notes; a MUST rule sends only this
(strategies), and a reference variant that takes only this (decision-text-characters,
accepted = "documented") stands for the narrowest conformant target.
"""

import string

PLAIN_ALPHABET = string.ascii_letters + string.digits + " .,?!'-"
MODEST_TEXT = 120
