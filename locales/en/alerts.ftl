# Alerts: a channel's webhooks (the alerts page) and the alerts themselves (sent by the worker).

alerts-title = Alerts for { $channel }
alerts-heading = Alerts for { $channel }
alerts-back = ← Channels
alerts-intro = When a capture of this channel during a live stream finds a new bot cohort, or a flood of young accounts among the newcomers, a message goes to each webhook below — a Discord channel, or any service that takes JSON. Each cohort is announced once per webhook.
alerts-none = No webhook yet: nobody is told unless they look at the dashboard.
alerts-kind = Kind
alerts-url = Webhook URL
alerts-min-cohort = Cohort of at least
alerts-young-share = Young newcomers
alerts-young-off = off
alerts-young-above = above { $pct } %
alerts-last = Latest delivery
alerts-never = nothing sent yet
alerts-actions = Actions
alerts-send-test = Send a test alert
alerts-delete = Remove
alerts-add-heading = Add a webhook
alerts-add-help = In Discord: Server settings → Integrations → Webhooks → New webhook → Copy webhook URL. The URL is stored encrypted and shown masked; only https addresses on the public internet are accepted.
alerts-min-cohort-field = Alert on a new bot cohort of at least (accounts)
alerts-young-share-field = Alert when young accounts are more than this share of a capture's newcomers (%, 0 = never)
alerts-add = Add the webhook
alerts-full = This channel has { $max } webhooks, the most it may have. Remove one to add another.
alerts-test-queued = A test alert is on its way; its delivery shows below in a few seconds (reload the page).
alerts-test-pending = A test alert for this webhook is still on its way; wait for it before sending another.
alert-kind-discord = Discord
alert-kind-json = JSON (any service)
alert-status-sent = Delivered
alert-status-retrying = Failed, retrying
alert-status-failed = Failed
channel-alerts-none = Alerts: none
channel-alerts = { $count ->
    [one] Alerts: { $count } webhook
   *[other] Alerts: { $count } webhooks
}
error-alert-kind = “{ $raw }” is not a kind of webhook: choose Discord or JSON.
error-alert-min-cohort = The cohort size must be a whole number from 2 to 100000, not “{ $raw }”.
error-alert-young-share = The share of young newcomers must be a whole percentage from 0 to 100, not “{ $raw }”.
error-alert-limit = A channel may have { $max } webhooks at most. Remove one first.
alert-target-not-url = “{ $url }” is not a webhook URL.
alert-target-not-https = Only https webhook URLs are accepted, not “{ $url }”.
alert-target-credentials = A webhook URL may not carry a user name or password.
alert-target-unresolved = The host of “{ $url }” cannot be found (check the address).
alert-target-private = “{ $url }” points into a private, loopback or reserved network; alerts go only to the public internet unless the operator allows otherwise (ALERT_ALLOW_PRIVATE_TARGETS).

# The alert messages.
alert-headline-cohorts = { $count ->
    [one] A new bot cohort in { $channel }'s chat
   *[other] { $count } new bot cohorts in { $channel }'s chat
}
alert-headline-young = Young accounts are flooding { $channel }'s chat
alert-headline-test = Test alert for { $channel }: this webhook works.
alert-test-body = Nothing was found — this test was sent from the channel's alerts page.
alert-cohort-line = Cohort { $id }: { $size } accounts created between { $from } and { $to } (strength { $strength }), { $present } of them in this capture.
alert-more-cohorts = …and { $count } more on the dashboard.
alert-young-line = { $young } of the { $newcomers } newcomers are less than a week old ({ $share }), above the { $threshold } % set for this webhook.
alert-open-dashboard = Open the dashboard
