"""The guidelines page is an article of the information centre now (knowledge 0002 copied
each language's page into an article before this migration runs)."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("guidelines", "0002_install_default_templates")]

    operations = [migrations.DeleteModel(name="GuidelinePage")]
