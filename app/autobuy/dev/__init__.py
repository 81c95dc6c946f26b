"""Local development helpers (used by ``make api``, the test fixtures and bench/)."""
