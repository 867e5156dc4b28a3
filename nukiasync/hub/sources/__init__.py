"""Sources of "who": what tells the hub which person or automation acted.

Each implements `base.ActionSource` and the hub drives them as a list (`base.SourceSet`); the
matching rules in `nukiasync.attribution` never know which source a record came from. The Web
API log (`web_log` over `log_watcher`), MQTT ``lockActionEvent`` (`mqtt_source` over
`push_match`) and decentral webhooks (`webhook_source`, feeding the log matching).
"""
