"""The API docs and the security headers in a real Chromium: offline, and the CSP enforced."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.e2e.conftest import Probe, Seawatch


def test_api_docs_work_offline_under_their_csp(seawatch: Seawatch, probe: Probe) -> None:
    answer = probe.page.goto(seawatch.url + "/docs")
    assert answer is not None and answer.ok
    csp = answer.headers["content-security-policy"]
    assert "'sha256-" in csp and "'unsafe-inline'" not in csp.split("script-src")[1].split(";")[0]
    # Swagger UI comes from the swagger-ui-bundle package and lists the operations
    expect(probe.page.locator(".opblock-summary-path").first).to_be_visible(timeout=10_000)
    expect(probe.page.get_by_text("/api/reports").first).to_be_visible()
    assert all(url.startswith(seawatch.url) for url in probe.requests)
    assert any("/static/swagger/swagger-ui-bundle.js" in url for url in probe.requests)


def test_an_injected_inline_script_is_refused_by_the_map_page_csp(seawatch: Seawatch, probe: Probe) -> None:
    answer = probe.page.goto(seawatch.url + "/")
    assert answer is not None
    headers = answer.headers
    assert headers["x-frame-options"] == "DENY" and headers["x-content-type-options"] == "nosniff"
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    expect(probe.page.locator("#sw-status")).to_have_attribute("data-state", "live", timeout=10_000)
    # what an injection would do: add a script of its own; the page's hashes do not cover it
    probe.allowed_console.append("Content Security Policy")
    ran = probe.page.evaluate(
        """() => { window.injected = false; const s = document.createElement('script');
        s.textContent = 'window.injected = true'; document.body.appendChild(s); return window.injected; }"""
    )
    assert ran is False
    assert any("Content Security Policy" in m for m in probe.console_errors)
