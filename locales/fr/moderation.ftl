# Actions de modération : étiquettes et notes, comptes de confiance, listes de bots,
# bannissements en masse (docs/moderation.md).

label-trusted = de confiance
label-bot = bot
label-watch = à surveiller
action-ban = bannissement
action-timeout = exclusion temporaire
action-unban = débannissement
result-pending = en attente
result-done = fait
result-already = déjà fait
result-refused = refusé par Twitch
result-skipped = ignoré
result-excluded = écarté
excluded-trusted = de confiance
excluded-broadcaster = le diffuseur
excluded-moderator = vous (le modérateur)
excluded-already_banned = déjà banni (par un lot précédent)
excluded-not_banned = non banni par un lot précédent
excluded-not_in_channel = jamais vu dans les captures de cette chaîne
batch-status-draft = aperçu
batch-status-running = en cours
batch-status-done = terminé
batch-status-stopped = arrêté
