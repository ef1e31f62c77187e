"""Every write of the privacy app: erasures (erasure), exports (export), the access audit
(audit) and retention (retention)."""
