# Ce qu'affichent les scripts du tableau de bord (transmis par la page : crates/gateway/src/i18n.rs,
# SCRIPT_MESSAGES). Les paramètres s'écrivent %nom%, remplis par web/static/js/strings.js.

js-chart-failed = Impossible de charger ce graphique : %error%
js-no-capture = Aucune capture terminée pour l'instant
js-series-chatters = chatteurs de %channel%
js-series-viewers = spectateurs de %channel%
js-axis-accounts = comptes
js-no-creation-date = Aucune date de création connue pour l'instant
js-series-accounts = comptes
js-series-expected = attendus
js-accounts-failed = Impossible de charger les comptes : %error%
js-all-accounts-of-day = Les %count% comptes du %day% →
js-score = score %score%
js-created-per-minute = créés par minute
js-created-per-hour = créés par heure
js-created-per-day = créés par jour
js-present-in = présents (%channel%)
js-members-failed = Impossible de charger les membres : %error%
js-all-members = Les %count% membres →
js-cohort-page = La page de la cohorte →
js-axis-created = création
js-axis-captures = captures
