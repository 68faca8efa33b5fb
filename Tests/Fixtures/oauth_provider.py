#!/usr/bin/python3
"""A real OAuth 2.0 server on loopback standing in for Google in the live tests.

Token endpoint: oauthlib's Server (authorization_code with optional PKCE, refresh_token). Like
Google, refresh responses carry no refresh token. Revoke endpoint: Google's variant of RFC 7009
(no client authentication; an unknown token is 400 invalid_token). Test-only endpoints:
  POST /__code     form user, redirect_uri[, code_challenge (method plain)]  -> {"code": ...}
  POST /__fault    form mode = none|hang|slow|drip|500|invalid_grant|not_json|no_access_token|oversized|
                   no_refresh_token|other_scope|rotate|slow_code|forget_tokens (forget_tokens acts once, then mode
                   is none; other_scope grants one more scope than the code did; drip sends the token
                   response's body one byte every 0.7 s; rotate answers a refresh with a new refresh
                   token and retires the old one, as OAuth 2.1 rotation does; slow_code delays only
                   authorization_code grants, by 3 s)
  POST /__settings form delay_ms (every /token call waits this long first; peak_in_flight in the stats
                   counts how many waited at once), expires_in (the
                   lifetime of the access tokens issued from then on; 3599 at start)
  GET  /__stats    -> {"revocations": N, "token_calls": N, "token_connections": N, "revoked": [...],
                       "refresh_tokens": [...], "live_refresh_tokens": N, "refresh_grants": {token: N},
                       "access_tokens": [...]}  (token_connections: connections that carried /token; live:
                       issued and not revoked; refresh_grants: refresh-token grants answered 200, by the
                       refresh token presented; access_tokens: every one issued)
Prints "PORT <n>" on stdout once listening; exits when its stdin closes (the test runner is gone).
"""
import json
import os
import secrets
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler

from fixture_server import send_body, serve

from oauthlib.oauth2 import RequestValidator, Server

CLIENT_ID, CLIENT_SECRET = sys.argv[1], sys.argv[2]
SCOPE = "https://www.googleapis.com/auth/gmail.readonly"
OTHER_SCOPE = "https://www.googleapis.com/auth/userinfo.email"
lock = threading.Lock()
codes, refresh_tokens, access_tokens = {}, {}, {}
state = {"fault": "none", "revocations": 0, "token_calls": 0, "revoked": [], "issued": [], "connections": 0, "rotations": 0,
         "delay_ms": 0, "expires_in": 3599, "refresh_grants": {}, "access_tokens": [], "in_flight": 0, "peak_in_flight": 0}
token_connections = set()


class Client:
    client_id = CLIENT_ID


class Validator(RequestValidator):
    def client_authentication_required(self, request, *a, **k):
        return True

    def authenticate_client(self, request, *a, **k):
        if request.client_id == CLIENT_ID and request.client_secret == CLIENT_SECRET:
            request.client = Client()
            return True
        return False

    def validate_grant_type(self, client_id, grant_type, client, request, *a, **k):
        return grant_type in ("authorization_code", "refresh_token")

    def validate_code(self, client_id, code, client, request, *a, **k):
        entry = codes.get(code)
        if not entry:
            return False
        request.user, request.scopes = entry["user"], [SCOPE]
        return True

    def confirm_redirect_uri(self, client_id, code, redirect_uri, client, request, *a, **k):
        return codes.get(code, {}).get("redirect_uri") == redirect_uri

    def is_pkce_required(self, client_id, request):
        return False

    def get_code_challenge(self, code, request):
        return codes.get(code, {}).get("code_challenge")

    def get_code_challenge_method(self, code, request):
        return "plain"

    def invalidate_authorization_code(self, client_id, code, request, *a, **k):
        codes.pop(code, None)

    def validate_refresh_token(self, refresh_token, client, request, *a, **k):
        user = refresh_tokens.get(refresh_token)
        if user is None:
            return False
        request.user = user
        return True

    def get_original_scopes(self, refresh_token, request, *a, **k):
        return [SCOPE]

    def rotate_refresh_token(self, request):
        return state["fault"] == "rotate"

    def save_bearer_token(self, token, request, *a, **k):
        access_tokens[token["access_token"]] = request.user
        state["access_tokens"].append(token["access_token"])
        if request.grant_type == "refresh_token":
            grants = state["refresh_grants"]
            grants[request.refresh_token] = grants.get(request.refresh_token, 0) + 1
        if "refresh_token" in token:
            refresh_tokens[token["refresh_token"]] = request.user
            state["issued"].append(token["refresh_token"])
            if request.grant_type == "refresh_token" and request.refresh_token != token["refresh_token"]:
                refresh_tokens.pop(request.refresh_token, None)  # rotated: the old one is spent
                state["rotations"] += 1

    def get_default_scopes(self, client_id, request, *a, **k):
        return [SCOPE]


server = Server(Validator(), token_expires_in=lambda request: state["expires_in"])


class Handler(BaseHTTPRequestHandler):
    # Keep-alive, as Google's endpoints are: the runtime's connection pool is exercised, and an
    # exchange is not charged a TCP connect and close (every reply has a content-length).
    protocol_version = "HTTP/1.1"
    # Head and body in one write, flushed after each request; without it, Nagle's algorithm holds
    # the body until the runtime's delayed ACK (40 ms) on a kept-alive connection.
    wbufsize = 64 * 1024
    disable_nagle_algorithm = True

    def setup(self):
        super().setup()  # one handler object per connection
        with lock:
            state["connections"] += 1
            self.connection_number = state["connections"]

    def log_message(self, *args):
        pass

    def reply(self, status, body, content_type="application/json", drip=False):
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        send_body(self, status, [("content-type", content_type)], data, drip)

    def form(self):
        length = int(self.headers.get("content-length") or 0)
        raw = self.rfile.read(length).decode()
        return raw, dict(urllib.parse.parse_qsl(raw))

    def do_GET(self):
        if self.path == "/__stats":
            with lock:
                stats = {k: state[k] for k in ("revocations", "token_calls", "revoked", "rotations", "refresh_grants",
                                               "access_tokens", "peak_in_flight")}
                stats["token_connections"] = len(token_connections)
                stats["refresh_tokens"] = sorted(set(refresh_tokens) | set(state["issued"]))
                stats["live_refresh_tokens"] = len(refresh_tokens)
                return self.reply(200, stats)
        self.reply(404, {"error": "not_found"})

    def do_POST(self):
        raw, form = self.form()
        with lock:
            if self.path == "/__fault":
                mode = form.get("mode", "none")
                if mode == "forget_tokens":
                    refresh_tokens.clear()
                    access_tokens.clear()
                    mode = "none"
                state["fault"] = mode
                return self.reply(200, {"fault": state["fault"]})
            if self.path == "/__settings":
                state["delay_ms"] = int(form.get("delay_ms", state["delay_ms"]))
                state["expires_in"] = int(form.get("expires_in", state["expires_in"]))
                return self.reply(200, {"delay_ms": state["delay_ms"], "expires_in": state["expires_in"]})
            if self.path == "/__code":
                code = secrets.token_urlsafe(16)
                codes[code] = {"user": form["user"], "redirect_uri": form["redirect_uri"],
                               "code_challenge": form.get("code_challenge")}
                return self.reply(200, {"code": code})
            fault, delay = state["fault"], state["delay_ms"]
        if delay and self.path == "/token":
            with lock:
                state["in_flight"] += 1
                state["peak_in_flight"] = max(state["peak_in_flight"], state["in_flight"])
            time.sleep(delay / 1000)
            with lock:
                state["in_flight"] -= 1
        if fault == "hang":
            time.sleep(60)
            return
        if fault == "slow":
            time.sleep(1.0)
        if fault == "slow_code" and self.path == "/token" and form.get("grant_type") == "authorization_code":
            time.sleep(3.0)
        if self.path == "/token":
            with lock:
                state["token_calls"] += 1
                token_connections.add(self.connection_number)
            if fault == "500":
                return self.reply(500, {"error": "internal_failure"})
            if fault == "invalid_grant":
                return self.reply(400, {"error": "invalid_grant", "error_description": "Token has been expired or revoked."})
            if fault == "not_json":
                return self.reply(200, b"<html>not json</html>", "text/html")
            if fault == "no_access_token":
                return self.reply(200, {"token_type": "Bearer", "expires_in": 3599})
            if fault == "oversized":
                return self.reply(200, {"access_token": "x" * (200 * 1024)})
            with lock:
                headers, body, status = server.create_token_response(
                    "http://provider/token", "POST", raw, {"Content-Type": "application/x-www-form-urlencoded"})
            if fault == "drip":
                return self.reply(status, body.encode(), drip=True)
            if fault in ("no_refresh_token", "other_scope") and status == 200:
                parsed = json.loads(body)
                if fault == "no_refresh_token":
                    parsed.pop("refresh_token", None)
                else:
                    parsed["scope"] = SCOPE + " " + OTHER_SCOPE
                body = json.dumps(parsed)
            return self.reply(status, body.encode())
        if self.path == "/revoke":
            if fault == "500":
                return self.reply(503, {"error": "backend_error"})
            token = form.get("token", "")
            with lock:
                state["revocations"] += 1
                user = refresh_tokens.pop(token, None)
                if user is None and access_tokens.pop(token, None) is None:
                    return self.reply(400, {"error": "invalid_token", "error_description": "Token expired or revoked"})
                state["revoked"].append(token[:6] + "...")
            return self.reply(200, b"")
        self.reply(404, {"error": "not_found"})


serve(Handler)
