DROP TABLE access_review_entries;
DROP TABLE access_reviews;
