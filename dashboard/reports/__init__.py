"""The periodic evaluation reports of CJ/T 292 (日报, 周报, 月报, 季报, 年报; docs/reports.md).

``model.build`` says what a report holds, from the functions `gridwall rank`, the trend and the
weekly 督办 list already use; ``xlsx.render`` and ``pdf.render`` write it; ``schedule`` writes the
previous period's report into the data directory after each period closes.
"""
