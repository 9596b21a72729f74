"""The one error a broken content file raises, naming the file, the entry and the field."""


class ContentError(ValueError):
    """Content that cannot be used; the message says where the problem is."""

    def __init__(self, path: object, entry: str, field: str, problem: str) -> None:
        super().__init__(f"{path}: {entry}: {field}: {problem}")
        self.path, self.entry, self.field, self.problem = path, entry, field, problem
