# Moderator actions: labels and notes, trusted accounts, bot lists, bulk bans (docs/moderation.md).

label-trusted = trusted
label-bot = bot
label-watch = watch
action-ban = ban
action-timeout = timeout
action-unban = unban
result-pending = waiting
result-done = done
result-already = already done
result-refused = refused by Twitch
result-skipped = skipped
result-excluded = left out
excluded-trusted = trusted
excluded-broadcaster = the broadcaster
excluded-moderator = you (the moderator)
excluded-already_banned = already banned (by an earlier batch)
excluded-not_banned = not banned by an earlier batch
excluded-not_in_channel = not seen in this channel's captures
batch-status-draft = preview
batch-status-running = running
batch-status-done = finished
batch-status-stopped = stopped
