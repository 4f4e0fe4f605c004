"""Evidence integrity: one-pass file digests and the audit log's canonical form and hash chain."""
