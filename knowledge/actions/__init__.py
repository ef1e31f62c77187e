"""Every write of the information centre, one module per area; import them from here.

- `articles`: articles and their language versions, content, status, version history and
  the search index (vector and word list);
- `proposals`: proposed changes and new articles, reviewed by the owner department;
- `usage`: insertions into reply drafts and what became of them, the search log, flagging
  expired articles, the guideline articles.

Who may write is knowledge.access's; the caller passes `departments` (a `Departments`: the
slugs that exist and the person's own), since the knowledge app knows no departments. Every
action owns its transaction and its row locks, saves only what it changed and records a
version for every change of an article.
"""

from knowledge.actions.articles import (
    BODY_MAX_LENGTH,
    PRODUCT_MAX_LENGTH,
    TAG_MAX_LENGTH,
    TAGS_MAX,
    TITLE_MAX_LENGTH,
    ArticleChanged,
    ArticleStatusNotAllowed,
    ProposalOutdated,
    SelfReviewNotAllowed,
    change_article_status,
    create_article,
    desk_today,
    edit_article,
    index_article,
    lock_article,
    normalise_tags,
    record_version,
)
from knowledge.actions.proposals import (
    accept_proposal,
    propose_article,
    propose_change,
    reject_proposal,
    withdraw_proposal,
)
from knowledge.actions.usage import (
    attach_insertions,
    flag_expired_articles,
    guideline_markdown,
    install_guideline_articles,
    normalise_query,
    record_case_outcome,
    record_insertion,
    record_reply_sent,
    record_search,
)

__all__ = [
    "BODY_MAX_LENGTH",
    "PRODUCT_MAX_LENGTH",
    "TAGS_MAX",
    "TAG_MAX_LENGTH",
    "TITLE_MAX_LENGTH",
    "ArticleChanged",
    "ArticleStatusNotAllowed",
    "ProposalOutdated",
    "SelfReviewNotAllowed",
    "accept_proposal",
    "attach_insertions",
    "change_article_status",
    "create_article",
    "desk_today",
    "edit_article",
    "flag_expired_articles",
    "guideline_markdown",
    "index_article",
    "install_guideline_articles",
    "lock_article",
    "normalise_query",
    "normalise_tags",
    "propose_article",
    "propose_change",
    "record_case_outcome",
    "record_insertion",
    "record_reply_sent",
    "record_search",
    "record_version",
    "reject_proposal",
    "withdraw_proposal",
]
