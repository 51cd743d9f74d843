-- The text of a message whose author disagreed with its verdict and said yes to keeping
-- it for the moderators (a candidate example). NULL otherwise: with store_text off, this
-- is the only message text the store holds. It lives on the feedback row so it goes with
-- the record (retention purge, ON DELETE CASCADE) and with `forget me`.
ALTER TABLE feedback ADD COLUMN text TEXT;
