"""Patches of moto, one module per gap, each defining ``apply()``.

``fidelity/``: what AWS does and moto does not. ``speed/``: moto made fast enough for
the project's load, same answers. The order they are applied in and the moto version
each was written against are in ``localcloud.extensions.PATCHES``.
"""
