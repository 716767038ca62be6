"""Configuration: the settings model (``settings``), its generated reference (``reference``),
zones and rules read from files (``watch``), and broker URLs (``urls``).

Read once, by the composition root (``seawatch.runtime.compose``) and the CLI; everything
else receives plain values.
"""
