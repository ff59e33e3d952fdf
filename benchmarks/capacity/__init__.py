"""`make bench-capacity`: dashboard users served inside the vendors' quotas (see __main__)."""
