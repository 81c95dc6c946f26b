"""One module per gap that moto leaves; each defines ``apply()`` (see localcloud.extensions)."""
