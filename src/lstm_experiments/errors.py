"""Errors the user can fix; the CLI prints them as one line, without a traceback."""


class UserError(Exception):
    """A bad config value or input file: the message names the key or file and the value."""


class DataError(UserError):
    """The data set cannot be built from the given file or settings."""
