"""Operations that touch the system: processes, locks, metrics, hooks. No textual, no rich."""
