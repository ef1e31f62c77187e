"""The staff's social media guidelines page becomes articles: each language's page (as edited
on the desk, else the default text) a published, desk-wide article tagged `guidelines`, the
German one first and the English one linked to it as its translation. The guidelines app
drops its page model afterwards (guidelines 0003 runs after this one)."""

from django.db import migrations
from django.utils import timezone

from guidelines.defaults import DEFAULT_GUIDELINES
from knowledge.markdown import plain_text
from knowledge.search import index_words

CONFIGS = {"de": "german", "en": "english"}


def _as_markdown(text):
    paragraphs = [" ".join(part.split()) for part in text.split("\n\n") if part.strip()]
    return paragraphs[0], "\n".join(f"- {rule}" for rule in paragraphs[1:]) + "\n"


def forwards(apps, schema_editor):
    Article = apps.get_model("knowledge", "Article")
    ArticleVersion = apps.get_model("knowledge", "ArticleVersion")
    GuidelinePage = apps.get_model("guidelines", "GuidelinePage")
    if Article.objects.filter(tags__contains=["guidelines"]).exists():
        return
    pages = {page.language: page for page in GuidelinePage.objects.all()}
    now = timezone.now()
    root = None
    for language in sorted(CONFIGS, key=lambda code: code != "de"):
        page = pages.get(language)
        text = page.body if page is not None else DEFAULT_GUIDELINES.get(language)
        if not text or not text.strip():
            continue
        title, body = _as_markdown(text)
        author = page.updated_by_id if page is not None else None
        article = Article.objects.create(
            language=language,
            title=title[:200],
            body=body,
            plain_body=plain_text(body),
            tags=["guidelines"],
            status="published",
            published_at=now,
            translation_of=root,
            created_by_id=author,
            created_at=now,
            updated_by_id=author,
            updated_at=now,
        )
        ArticleVersion.objects.create(
            article=article,
            number=1,
            title=article.title,
            body=body,
            tags=["guidelines"],
            status="published",
            changed_fields=["created"],
            changed_by_id=author,
            changed_at=now,
            note="Guidelines page",
        )
        with schema_editor.connection.cursor() as cursor:
            config = CONFIGS[language]
            cursor.execute(
                "UPDATE knowledge_article SET search_vector ="
                " setweight(to_tsvector(%s::regconfig, title), 'A')"
                " || setweight(to_tsvector(%s::regconfig, array_to_string(tags, ' ')), 'B')"
                " || setweight(to_tsvector(%s::regconfig, plain_body), 'D'),"
                " title_vector = setweight(to_tsvector(%s::regconfig, title), 'A')"
                " || setweight(to_tsvector(%s::regconfig, array_to_string(tags, ' ')), 'B')"
                " WHERE id = %s",
                [config, config, config, config, config, article.pk],
            )
            cursor.execute(
                "INSERT INTO knowledge_searchword (language, word, lexeme)"
                " SELECT %s, word, (tsvector_to_array(to_tsvector(%s::regconfig, word)))[1]"
                " FROM unnest(%s::text[]) AS word"
                " WHERE tsvector_to_array(to_tsvector(%s::regconfig, word)) <> '{}'"
                " ON CONFLICT (language, word) DO NOTHING",
                [language, config, index_words(title, "guidelines", plain_text(body)), config],
            )
        root = root or article


class Migration(migrations.Migration):
    dependencies = [
        ("knowledge", "0001_create_articles"),
        ("guidelines", "0002_install_default_templates"),
    ]
    run_before = [("guidelines", "0003_remove_guideline_page")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
