from schedules import reminders as _reminders  # noqa: F401  (registers the reminder writer in SCHEDULE_HOOKS)
