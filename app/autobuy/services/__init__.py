"""Use cases. Services get their collaborators as parameters and know nothing of HTTP."""
