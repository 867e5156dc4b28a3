"""Sources of "who": what tells the hub which person or automation acted.

Today one: the Web API log (`log_watcher` schedules the reads and pairs entries with
pending changes through the rules in `nukiasync.attribution`; `web_log` publishes the
answers).
"""
