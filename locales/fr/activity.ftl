# La page d'activité : le journal d'audit de l'utilisateur.

activity-title = Activité
activity-heading = Votre activité
activity-none = Rien pour l'instant.
col-when = Quand
col-what = Quoi
activity-login = Connexion avec Twitch
activity-logout = Déconnexion
activity-session-create = Session « { $name } » ouverte
activity-session-save = Session « { $name } » enregistrée
activity-session-resume = Session « { $name } » reprise
activity-session-delete = Session « { $name } » supprimée
activity-session-expire = Une session non enregistrée a expiré
activity-capture-request = Capture de { $channel } demandée
activity-capture-complete = Capture de { $channel } terminée : { $chatters ->
    [one] { $chatters } chatteur
   *[other] { $chatters } chatteurs
}
activity-capture-fail = Échec de la capture de { $channel } : { $error }
activity-auto-stop = Capture automatique de { $channel } arrêtée : { $reason }
activity-rename = Changement de pseudo repéré : { $from } → { $to }
activity-token-invalidated = Fin de l'autorisation Twitch : { $reason }
activity-export = Export de { $what }
activity-actions-enabled = Actions de modération activées (consentement Twitch pour les bannissements)
activity-mark-label = A étiqueté { $login } «{"\u00A0"}{ $label }{"\u00A0"}»
activity-mark-note = A écrit une note sur { $login }
activity-mark-remove = A retiré l'étiquette et la note de { $login }
activity-list-import = A importé la liste de bots «{"\u00A0"}{ $name }{"\u00A0"}» ({ $entries ->
    [one] { $entries } entrée
   *[other] { $entries } entrées
})
activity-list-delete = A supprimé la liste de bots «{"\u00A0"}{ $name }{"\u00A0"}»
activity-batch-confirm = Confirmé{"\u00A0"}: { $action } de { $count ->
    [one] { $count } compte
   *[other] { $count } comptes
} sur { $channel }
activity-batch-account = { $login }{"\u00A0"}: { $result }
activity-batch-done = Terminé{"\u00A0"}: { $action } sur { $channel }
activity-batch-stopped = Arrêté{"\u00A0"}: { $action } sur { $channel } — { $reason }
token-revoked-on-twitch = vous avez déconnecté l'application sur Twitch
