-- A sign-in ceremony belongs to the browser that started it. When the options are issued, the
-- browser gets a random ceremony cookie (HttpOnly, SameSite=Strict, path /auth) and the
-- challenge keeps the SHA-256 of its value; the verify step is refused unless the same cookie
-- comes back. An attacker's own challenge, answered with the attacker's own passkey and posted
-- from another site, therefore cannot sign a victim's browser into the attacker's account.
-- Challenges made before this migration have no binding and can no longer be completed
-- (they live five minutes).
ALTER TABLE auth_challenges ADD COLUMN browser_binding bytea;
