"""The analyst's tools: replay of recordings and journals, the HTML report, track exports, drills.

Each runs the core's pipeline outside the live service (``replay``) or drives a live one
through its broker (``drill``); none of them is needed by ``seawatch run``.
"""
