"""The upload form of the spreadsheet imports (roster, hotline work orders): a file with a size limit,
and "check only" (a dry run that writes nothing)."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _


class SpreadsheetUploadForm(forms.Form):
    max_megabytes = 10
    file_label = _("File (.xlsx or .csv)")

    file = forms.FileField()
    dry_run = forms.BooleanField(label=_("Check only (dry run): write nothing"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["file"].label = self.file_label

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > self.max_megabytes * 1024 * 1024:
            raise ValidationError(
                _("The file is larger than %(mb)d MB; please split it.") % {"mb": self.max_megabytes}
            )
        return upload
