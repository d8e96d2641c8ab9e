# Alertes : les webhooks d'une chaîne (la page des alertes) et les alertes elles-mêmes (envoyées par le worker).

alerts-title = Alertes pour { $channel }
alerts-heading = Alertes pour { $channel }
alerts-back = ← Chaînes
alerts-intro = Quand une capture de cette chaîne en direct trouve une nouvelle cohorte de bots, ou un afflux de comptes jeunes parmi les nouveaux venus, un message part vers chaque webhook ci-dessous — un salon Discord, ou tout service qui accepte du JSON. Chaque cohorte n'est annoncée qu'une fois par webhook.
alerts-none = Aucun webhook : personne n'est prévenu sans regarder le tableau de bord.
alerts-kind = Type
alerts-url = URL du webhook
alerts-min-cohort = Cohorte d'au moins
alerts-young-share = Nouveaux venus jeunes
alerts-young-off = désactivé
alerts-young-above = au-delà de { $pct } %
alerts-last = Dernier envoi
alerts-never = rien d'envoyé pour l'instant
alerts-actions = Actions
alerts-send-test = Envoyer une alerte de test
alerts-delete = Retirer
alerts-add-heading = Ajouter un webhook
alerts-add-help = Dans Discord : Paramètres du serveur → Intégrations → Webhooks → Nouveau webhook → Copier l'URL du webhook. L'URL est stockée chiffrée et affichée masquée ; seules les adresses https de l'internet public sont acceptées.
alerts-min-cohort-field = Alerter pour une nouvelle cohorte de bots d'au moins (comptes)
alerts-young-share-field = Alerter quand les comptes jeunes dépassent cette part des nouveaux venus d'une capture (%, 0 = jamais)
alerts-add = Ajouter le webhook
alerts-full = Cette chaîne a { $max } webhooks, le maximum. Retirez-en un pour en ajouter un autre.
alerts-test-queued = Une alerte de test est en route ; son envoi s'affiche ci-dessous dans quelques secondes (rechargez la page).
alerts-test-pending = Une alerte de test pour ce webhook est encore en route ; attendez-la avant d'en envoyer une autre.
alert-kind-discord = Discord
alert-kind-json = JSON (tout service)
alert-status-sent = Livrée
alert-status-retrying = Échec, nouvel essai prévu
alert-status-failed = Échec
channel-alerts-none = Alertes : aucune
channel-alerts = { $count ->
    [one] Alertes : { $count } webhook
   *[other] Alertes : { $count } webhooks
}
error-alert-kind = « { $raw } » n'est pas un type de webhook : choisissez Discord ou JSON.
error-alert-min-cohort = La taille de cohorte doit être un nombre entier de 2 à 100000, pas « { $raw } ».
error-alert-young-share = La part de nouveaux venus jeunes doit être un pourcentage entier de 0 à 100, pas « { $raw } ».
error-alert-limit = Une chaîne peut avoir { $max } webhooks au plus. Retirez-en un d'abord.
alert-target-not-url = « { $url } » n'est pas une URL de webhook.
alert-target-not-https = Seules les URL de webhook en https sont acceptées, pas « { $url } ».
alert-target-credentials = Une URL de webhook ne peut pas contenir de nom d'utilisateur ni de mot de passe.
alert-target-unresolved = L'hôte de « { $url } » est introuvable (vérifiez l'adresse).
alert-target-private = « { $url } » pointe vers un réseau privé, local ou réservé ; les alertes ne partent que vers l'internet public, sauf si l'opérateur l'autorise (ALERT_ALLOW_PRIVATE_TARGETS).

# Les messages d'alerte.
alert-headline-cohorts = { $count ->
    [one] Une nouvelle cohorte de bots dans le chat de { $channel }
   *[other] { $count } nouvelles cohortes de bots dans le chat de { $channel }
}
alert-headline-young = Des comptes jeunes affluent dans le chat de { $channel }
alert-headline-test = Alerte de test pour { $channel } : ce webhook fonctionne.
alert-test-body = Rien n'a été trouvé — ce test a été envoyé depuis la page des alertes de la chaîne.
alert-cohort-line = Cohorte { $id } : { $size } comptes créés entre { $from } et { $to } (force { $strength }), dont { $present } dans cette capture.
alert-more-cohorts = …et { $count } autres sur le tableau de bord.
alert-young-line = { $young } des { $newcomers } nouveaux venus ont moins d'une semaine ({ $share }), au-delà des { $threshold } % fixés pour ce webhook.
alert-open-dashboard = Ouvrir le tableau de bord
