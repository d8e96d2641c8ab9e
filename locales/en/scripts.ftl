# What the dashboard's scripts show (handed over by the page: crates/gateway/src/i18n.rs,
# SCRIPT_MESSAGES). Placeholders are %name%, filled by web/static/js/strings.js.

js-chart-failed = Could not load this chart: %error%
js-no-capture = No finished capture yet
js-series-chatters = %channel% chatters
js-series-viewers = %channel% viewers
js-axis-accounts = accounts
js-no-creation-date = No creation date known yet
js-series-accounts = accounts
js-series-expected = expected
js-accounts-failed = Could not load the accounts: %error%
js-all-accounts-of-day = All %count% accounts of %day% →
js-score = score %score%
js-created-per-minute = created per minute
js-created-per-hour = created per hour
js-created-per-day = created per day
js-present-in = present (%channel%)
js-members-failed = Could not load the members: %error%
js-all-members = All %count% members →
js-cohort-page = The cohort's page →
js-axis-created = created
js-axis-captures = captures
