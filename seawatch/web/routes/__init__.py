"""The app's routes, one router per resource; :func:`seawatch.web.app.create_app` includes them all.

``pages`` (the map and the API docs), ``vessels``, ``search``, ``alerts`` (list, one with its audit
log, SURPIC), ``actions`` (operator writes: acknowledge, assign, resolve, retract, reports),
``received`` (wall-clock receive times), ``zones``, ``stream`` (server-sent events and the alert
sink that feeds them), ``instance`` (which instance of a failover pair serves the map) and ``ops``
(health and metrics).
"""
