# Shared by every page: the layout, counts, and the language switch.
# (docs/i18n.md: how to add a message; keep the French file in step.)

brand = Chatters Analyser
product-name = Twitch Chatters Analyser
skip-to-content = Skip to content
footer = Signals, not verdicts. Times are shown in your time zone.
nav-main = Main
nav-channels = Channels
nav-sessions = Sessions
nav-activity = Activity
nav-marks = Labels & notes
nav-lists = Bot lists
log-out = Log out
language-switch = Français
language-switch-title = Lire cette page en français

count-accounts = { $count ->
    [one] { $count } account
   *[other] { $count } accounts
}
share-of-accounts = { $share } of accounts

landing-title = Who is really in your chat?
landing-lead = Capture the chatters of the channels you moderate, and see what scrolling a viewer list never shows: waves of accounts created on the same day, brand-new accounts, renames, lurkers that never leave — each with the reasons behind it.
landing-permissions = The app asks Twitch for two permissions only: to read your chat's chatter list and the list of channels you moderate. Logging out revokes them.
login-with-twitch = Log in with Twitch
notice-login-required = Log in with Twitch to continue.
notice-reauth = Your Twitch authorization was withdrawn or has expired, so you were logged out. Log in again to continue.
notice-logged-out = You are logged out. Your Twitch authorization was revoked for this app.

count-chatters = { $count ->
    [one] { $count } chatter
   *[other] { $count } chatters
}
open = open
save = Save
minutes-short = min
# Typography: French puts a no-break space before a colon.
punct-colon = :
punct-semicolon = ;
capture-status-queued = queued
capture-status-running = running
capture-status-done = done
capture-status-failed = failed
count-captures = { $count ->
    [one] { $count } capture
   *[other] { $count } captures
}
login-other-account = Use another Twitch account
