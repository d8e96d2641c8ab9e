# twitch-fake's consent page (the local stand-in for Twitch speaks the browser's language, as
# Twitch does).

fake-authorize = Authorize
fake-authorize-app = Authorize { $app }
fake-note = twitch-fake — a local stand-in for Twitch. No real account is involved.
fake-sign-in-as = Sign in as
fake-will-be-able = This application will be able to:
fake-cancel = Cancel
