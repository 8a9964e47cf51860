-- Web Push channels: the browser's push subscription. Its endpoint is the channel's
-- `target`; its keys (p256dh, auth) are kept here as `PushSubscription.toJSON()` gave them.

ALTER TABLE channels DROP CONSTRAINT channels_kind_check;
ALTER TABLE channels ADD CONSTRAINT channels_kind_check CHECK (kind IN ('webhook', 'web_push'));
ALTER TABLE channels ADD COLUMN push_keys jsonb;
ALTER TABLE channels ADD CONSTRAINT channels_push_keys_check
    CHECK ((kind = 'web_push') = (push_keys IS NOT NULL));

-- The same subscription registered twice is one channel.
CREATE UNIQUE INDEX channels_push_endpoint ON channels (user_id, target) WHERE kind = 'web_push';
