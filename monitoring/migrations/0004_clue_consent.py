"""Issue 15: the household's 承诺授权 scan is taken at a clue's 入户核实 (stored on the clue under
a private name, served through the file door; the monitoring object takes it over)."""

import povertyapp.filenames
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('monitoring', '0003_lists'),
    ]

    operations = [
        migrations.AddField(
            model_name='clue',
            name='consent',
            field=models.FileField(blank=True, max_length=255, upload_to=povertyapp.filenames.PrivateUploadTo('consent'), verbose_name='承诺授权书'),
        ),
        migrations.AddField(
            model_name='clue',
            name='consent_signed_on',
            field=models.DateField(blank=True, null=True, verbose_name='承诺授权签署日期'),
        ),
    ]
