"""Speed patches: moto made fast enough for our load, with the same answers
(``LOCALCLOUD_SPEED_PATCHES=off`` leaves them out)."""
