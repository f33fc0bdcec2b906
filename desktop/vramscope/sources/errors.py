"""The one error every model reader raises, carrying a message a user can act on."""


class ModelFileError(Exception):
    """A model file, folder or preset that cannot be read; str(error) is the user's message."""
