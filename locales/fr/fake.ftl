# La page de consentement de twitch-fake (le Twitch local parle la langue du navigateur, comme
# Twitch).

fake-authorize = Autoriser
fake-authorize-app = Autoriser { $app }
fake-note = twitch-fake — un Twitch local de remplacement. Aucun compte réel n'est concerné.
fake-sign-in-as = Se connecter en tant que
fake-will-be-able = Cette application pourra :
fake-cancel = Annuler
