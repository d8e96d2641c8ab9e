# La page des chaînes.

channels-title = Chaînes
channels-heading = Vos chaînes
channels-intro = Votre propre chaîne et toutes celles que vous modérez.
channels-active-session = Les captures vont dans votre session active,
channels-first-capture = Votre première capture ouvre une nouvelle session.
channels-none = Twitch ne vous attribue aucune chaîne — pas même la vôtre. Réessayez dans une minute.
channel-own = votre chaîne
channel-live-viewers = { $count ->
    [one] En direct · { $count } spectateur
   *[other] En direct · { $count } spectateurs
}
channel-offline = Hors ligne
channel-last-capture = Dernière capture
channel-not-captured = Pas encore capturée.
capture-now = Capturer maintenant
auto-capture-every = Capture automatique toutes les
auto-capture-interval = Minutes entre deux captures
auto-capture-only-live = seulement en direct
auto-stop-off = Désactivée par vous.
auto-stop-saved = Capture automatique arrêtée : la session a été enregistrée. Reprenez-la pour capturer à nouveau.
auto-stop-expired = Capture automatique arrêtée : la session a expiré.
auto-stop-deleted = Capture automatique arrêtée : la session a été supprimée.
error-channel-id = « { $id } » n'est pas un identifiant de chaîne Twitch (uniquement des chiffres).
error-not-your-channel = Vous ne pouvez capturer que votre propre chaîne et celles que vous modérez ; celle-ci n'en fait pas partie.
error-interval = L'intervalle doit être un nombre entier de minutes entre 1 et 1440, pas « { $value } ».
auto-stop-reauth = Capture automatique en pause : votre autorisation Twitch a pris fin. Reconnectez-vous pour la reprendre.
error-capture-limit = Vous avez déjà { $limit } captures en attente ou en cours, le maximum par modérateur (pour que les captures de chacun avancent). Attendez qu'une se termine, puis relancez.
auto-mode-eventsub = Twitch nous prévient quand cette chaîne passe en direct ou hors ligne, et des raids (EventSub).
auto-mode-polling = Vérifié toutes les { $minutes } min si la chaîne est en direct (interrogation : EventSub n'est pas configuré).
