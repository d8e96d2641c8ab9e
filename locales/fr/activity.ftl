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
